"""``kiroku device watch``: the agent left running on a meeting room's PC.

It watches a folder where a recorder drops its files, waits until each is complete, sends it with the
resumable push (``kiroku.device_push``), remembers every file's fate in a small SQLite database and
reports itself to the server. Light on purpose: it runs on the base install (``kiroku[device]``),
without the recognition engine, the web framework or the database layer of the service.

- ``config``: the settings (a TOML file and the command line) and the title pattern;
- ``scan``: which files are recordings, and when one is complete;
- ``state``: the local database of files seen, queued, sending, confirmed and refused;
- ``agent``: the loop that sends, backs off, reports and tidies up.
"""
