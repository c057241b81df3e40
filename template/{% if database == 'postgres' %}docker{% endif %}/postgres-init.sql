-- Run once by the postgres image when docker compose first starts it on an empty volume
-- (docker-compose.yml mounts this file into /docker-entrypoint-initdb.d/). To run it again,
-- remove the volume: docker compose down --volumes.
--
-- The API's own role: it owns the database "app" (and so its public schema, where the
-- migrations create tables) and nothing more. Not a superuser; cannot create databases or
-- roles. Matches DATABASE_URL in .env.example. A development password: never reuse it.
CREATE ROLE app WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD 'app-password-for-local-development';
CREATE DATABASE app OWNER app;
REVOKE ALL ON DATABASE app FROM PUBLIC;
