"""Services of the API: each opens its own transaction (``with db.begin():``) and works on the
live domain session; routers call them and repositories serve them."""
