"""A member kindergarten's withdrawal from its alliance (申请退出联盟): request, the officer's decision."""
