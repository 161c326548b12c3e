STORE_SCHEMA_VERSION = 1
META_TABLE = "govdata_store_meta"
