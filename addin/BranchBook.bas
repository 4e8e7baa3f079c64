Attribute VB_Name = "BranchBook"
' BranchBook.xlam's only code: every button of the ribbon tab calls this Sub, which passes the
' button's tag to one Python dispatcher (branchbook.addin.dispatch). Buttons, labels and the
' tag -> function map live in customUI14.xml and in Python; this stays frozen (docs/addin.md).
Option Explicit

Sub BranchBookButton(control As IRibbonControl)
    RunPython "import branchbook.addin.dispatch as d; d.run('" & control.Tag & "')"
End Sub
