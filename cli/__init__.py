"""The command line, `kompetensbot` (cli/main.py): one module per command in
cli/commands/, its Swedish texts in cli/texts.py, the Teams app package in
cli/teams_package.py. It may import core, storage, bot and dialogs; nothing of
ours imports it."""
