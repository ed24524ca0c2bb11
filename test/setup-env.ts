// No test may reach real AWS: fake credentials and a fixed region for every SDK client the tests create.
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'test';
process.env.AWS_SECRET_ACCESS_KEY = 'test';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
// Powertools loggers stay quiet in tests unless a test captures them on purpose.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
