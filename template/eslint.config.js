// Flat config: TypeScript-aware recommended rules, eslint-plugin-security, and the layering of
// src/ (docs/project-structure.md) enforced by eslint-plugin-import-x.
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import security from 'eslint-plugin-security';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Modules every layer may use: settings, the logger, the generated answers. */
const FOUNDATION = ['./logger.ts', './project.ts', './config.ts'];

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  security.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The layers of src/, bottom up: security/, then api/ (the route layer), then each resource
    // (users/, items/, auth/, yours) with its storage, then db/ (which database builds them),
    // then app.ts, server.ts and cli/. An import may only go down.
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Relative imports name their .ts file (type stripping); the TypeScript parser reads them.
      'import-x/resolver-next': [createNodeResolver()],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts'],
    },
    rules: {
      // A cycle makes start-up order depend on which module loads first, and a layer that
      // needs the one above it is no longer a layer.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './src/security',
              from: './src',
              except: ['./security', ...FOUNDATION],
              message:
                'src/security is the bottom layer: a protection must not depend on the routes, resources or database it protects. Define what it needs as an interface in src/security and pass it in (as src/security/sessions.ts does).',
            },
            {
              target: './src/api',
              from: './src',
              except: ['./api', './security', ...FOUNDATION],
              message:
                'src/api is the route layer every resource builds on: it must not depend on a resource or the database. Put resource code in its own folder (src/items/ is the pattern).',
            },
            {
              target: './src/observability',
              from: './src',
              except: ['./observability', './security', './server-types.ts', ...FOUNDATION],
              message:
                'src/observability measures the app from outside: it must not depend on the routes, resources or database it measures. src/app.ts and src/server.ts hand it what it needs.',
            },
          ],
        },
      ],
    },
  },
  {
    // The proof suite reads the project's own files and indexes its own fixtures by name;
    // none of it handles outside input, so these heuristics only produce noise there.
    files: ['test/**/*.ts'],
    rules: {
      'security/detect-non-literal-fs-filename': 'off',
      'security/detect-object-injection': 'off',
      'security/detect-non-literal-regexp': 'off',
    },
  },
);
