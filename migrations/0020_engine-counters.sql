CREATE TABLE "engine_counters" (
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"count" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "engine_counters_pkey" PRIMARY KEY("name","kind")
);
