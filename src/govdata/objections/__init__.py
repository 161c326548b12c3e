"""Objections and corrections (COR-1 … COR-4): 疑义、纠错、复核."""
