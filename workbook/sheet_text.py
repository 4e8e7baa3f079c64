"""How the master's text cells are written: inline strings, except in the one sheet whose body shares.

XlsxWriter puts every string written with write()/write_string() in the workbook's shared string table
as it is written, and numbers the table in that order. The biggest sheet's body shares its text too
(master.SHARED_TEXT_ROWS) and its XML is kept for the next write (body_cache); its numbers then depend
on every shared string before it. The dashboard's words change with every merge (a branch's 未交 turns
已交), so if its text were shared the big sheet's numbers would shift and its cached XML could not be
reused. So every sheet writes its text inline, as XlsxWriter's constant_memory mode does, but the one
whose body shares: the shared table holds that sheet's header and body only (docs/design.md, "Writing
the master").

XlsxWriter's constant_memory mode cannot be used for this: it writes rows as they come (a painter
writes in any order) and writes text shaped like rich text ("<r>…</r>") raw. Instead the sheet hands
XlsxWriter a table whose "index" of a string is the string itself, and writes such a cell inline, with
the same escaping as the body's inline text.
"""
from __future__ import annotations

import re

from xlsxwriter.worksheet import CellRichStringTuple, Worksheet

# Text that needs more than copying into <t>: XML specials, control characters, Excel's own
# _xHHHH_ escapes, leading or trailing white space. Handled as XlsxWriter handles inline strings
# (a test compares the two).
_NOT_PLAIN = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")
_EXCEL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_EDGE_SPACE = re.compile(r"^\s|\s$")


def text_xml(text: str) -> tuple[str, str]:
    """A string as the attribute of its <t> element and its escaped content. Control characters
    (not allowed in XML) become Excel's _xHHHH_ escapes, and text that looks like one is escaped
    itself, so that Excel reads back what was written."""
    if not _NOT_PLAIN.search(text):
        return "", text
    text = _EXCEL_ESCAPE.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda match: f"_x{ord(match.group()):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    space = ' xml:space="preserve"' if _EDGE_SPACE.search(text) else ""
    return space, text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _InlineStrings:
    """Stands in for XlsxWriter's shared string table in a sheet that writes its text inline: a string's
    "index" is the string itself, and nothing is added to the workbook's table."""

    count = unique_count = 0

    @staticmethod
    def _get_shared_string_index(string: str) -> str:
        return string

    @staticmethod
    def _get_shared_string(index: str) -> str:  # a chart's cached values of the sheet's cells
        return index


_INLINE = _InlineStrings()


class InlineTextSheet(Worksheet):
    """A worksheet whose text cells are inline strings, unless `share_text()` was called before any
    text was written: then they go to the workbook's shared string table, as XlsxWriter writes them."""

    def _initialize(self, init_data) -> None:
        super()._initialize(init_data)
        self.shared_strings = self.str_table  # the workbook's table
        self.str_table = _INLINE
        self._rich = False

    def share_text(self) -> None:
        self.str_table = self.shared_strings

    def _write_cell(self, row: int, col: int, cell) -> None:
        self._rich = type(cell) is CellRichStringTuple  # its "string" is XlsxWriter's own <r> runs
        super()._write_cell(row, col, cell)

    def _xml_string_element(self, index, attributes=()) -> None:
        # XlsxWriter writes a text cell as <c t="s"><v>index</v></c>; here the index is the text itself.
        if not isinstance(index, str):
            super()._xml_string_element(index, attributes)
            return
        attr = "".join(f' {key}="{self._escape_attributes(value)}"' for key, value in attributes)
        if self._rich:
            self.fh.write(f'<c{attr} t="inlineStr"><is>{index}</is></c>')
        else:
            space, content = text_xml(index)
            self.fh.write(f'<c{attr} t="inlineStr"><is><t{space}>{content}</t></is></c>')

    def _prepare_formula(self, formula, expand_future_functions=False):
        # XlsxWriter runs some thirty to a hundred and fifty regular expressions over each formula (its newer
        # functions' prefixes) as it writes it: the master's validations are the same few formulas at every write.
        key = (formula, expand_future_functions, self.use_future_functions)
        prepared = _PREPARED.get(key)
        if prepared is None:
            if len(_PREPARED) >= _PREPARED_KEPT:
                _PREPARED.clear()
            prepared = _PREPARED[key] = super()._prepare_formula(formula, expand_future_functions)
        return prepared


# Formulas as XlsxWriter prepares them (InlineTextSheet._prepare_formula): a pure function of its inputs, kept
# for the next writes of the master, at most this many.
_PREPARED: dict[tuple, str] = {}
_PREPARED_KEPT = 4096
