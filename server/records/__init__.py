"""Support records (지원기록보기) and statistics (통계보기): search, detail, fault types, statistics, Excel export.

The web pages live in ``opensupport.server.web.records`` and ``opensupport.server.web.stats``; this package
holds the queries, so that the pages, the benchmark and the tests run the very same SQL.
"""
