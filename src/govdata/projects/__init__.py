"""政务信息化项目 (PRJ-1, PRJ-2): filing with the pre-compiled catalog, initial review, acceptance."""
