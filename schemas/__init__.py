"""Data, not code: the YAML files beside this marker describe BranchBook's workbooks and rules."""
