"""CRM data in and out: CSV row schemas, the transactional importer and the demo-data generator."""
