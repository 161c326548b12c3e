"""Sharing (数据共享, SPEC §7): applications, grants, the sharing services, usage and receipts."""
