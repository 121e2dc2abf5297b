"""One module per resource type: its routes and the functions answering them."""
