Attribute VB_Name = "BranchBook"
' BranchBook buttons for classic desktop xlwings (Windows).
' Import this module into the master (Alt+F11, File > Import File), then assign each Sub to a
' sheet button (Insert > Shapes, right-click > Assign Macro). Needs the xlwings add-in installed
' (xlwings addin install) and its Interpreter set to the Python that has branchbook.
Option Explicit

Sub BB_Validate()
    RunPython "import branchbook.addin.macros as m; m.validate()"
End Sub

Sub BB_RefreshFlags()
    RunPython "import branchbook.addin.macros as m; m.refresh_flags()"
End Sub

Sub BB_MakeReturns()
    RunPython "import branchbook.addin.macros as m; m.make_returns()"
End Sub

Sub BB_MergeNow()
    RunPython "import branchbook.addin.macros as m; m.merge_now()"
End Sub

Sub BB_Bulletin()
    RunPython "import branchbook.addin.macros as m; m.bulletin()"
End Sub
