"""Progress reports: the figures, the dashboard sheet, the charts, the weekly bulletin, reminders."""
