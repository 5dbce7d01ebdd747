"""The query kit: the `q[...]` filter language, `sort`, metadata operators and bracket-key params.

Domain code (batch operations, selectors) and the API both use it; it imports no DRF and raises
scfm.errors.DomainError subclasses, which the API answers with 422. Modules: params.py (bracket keys -> nested
dicts), json_query.py (JSON operators and their SQL), filters.py (FilterSet building blocks, apply_filters, sort).
The contract is rest-api-current.txt ("Filtering, Sorting and Pagination").
"""
