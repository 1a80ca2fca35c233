"""Demo data, outside the engine: the sample project for snapshot tests, screenshots and trying the app.

It uses the engine's public face and the simulated provider, as a user's run
would; the engine never imports it.
"""
