"""xlwings macros: the buttons of the master and the returns, thin over the core."""
