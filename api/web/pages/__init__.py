"""One module per area of pages; each defines ``router`` and registers its menu entries and 待办."""
