"""The application: services over the core and storage, the command line,
and (next) the aiohttp app and Teams handler. May import everything."""
