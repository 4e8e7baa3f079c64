"""The sync service: watch the inbox (and the mailbox), merge returns into the master safely."""
