"""What the pages share, one module per job: the user, session, caches, navigation, errors, downloads, labels.

Streamlit runs only the page files ``app.py`` registers with ``st.navigation``; this package is
imported by them, never run as a page.
"""
