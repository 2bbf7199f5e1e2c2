"""The application: services over the core and storage, the aiohttp app and the
Teams handler (the command line is the top-level package cli/)."""
