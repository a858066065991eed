"""The viewer's thin Qt layer: the remote-screen widget, the window, the Qt key map.

Everything here only translates between Qt and the GUI-free core (``viewer.display``, ``viewer.input``,
``viewer.decode``); it runs under ``QT_QPA_PLATFORM=offscreen`` in the tests.
"""
