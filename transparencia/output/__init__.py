"""The output kit: how every published file is written, defined once.

``csvfile`` (the one CSV writer: UTF-8 with BOM, CRLF), ``formulas`` (the one spreadsheet-formula
neutraliser), ``templates`` (the one Jinja environment factory, HTML autoescaped) and ``charts``
(static SVG charts with ANTAI's one palette). Like the domain kernel, the kit imports nothing from
the stages, so any layer may use it.
"""
