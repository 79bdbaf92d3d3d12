// ESLint with typescript-eslint's type-aware rules. `npm run lint` runs it; `npm test` runs that first.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'coverage/'] },
  js.configs.recommended,
  // Includes no-floating-promises, no-misused-promises, await-thenable, require-await,
  // only-throw-error and the no-unsafe-* family: the bugs a promise-heavy library makes.
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise deliberately left to run is written `void promise` (a record's delivery whose
      // failure is counted elsewhere, a timer's callback): that is the rule's default, kept
      // explicit here because the codebase relies on it.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      // A caught value passed on as a rejection (add() turns what it threw into its promise's
      // rejection) is whatever was thrown, typed unknown: that is forwarding, not a new reason.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // Beyond the recommended set, two from the strict one that this code already passes:
      // a promise returned un-awaited inside try escapes its catch and finally, and a switch over
      // a union of outcomes (sent, failed, retry...) must handle a member added later.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      // A leading underscore names what is there only for its position (a middleware's `next`,
      // a field taken out of an object so that the rest can be spread).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // vitest types its asymmetric matchers (expect.any, expect.stringContaining, ...) as `any`
      // by design, so that they fit any field of toMatchObject and toEqual; each use would
      // otherwise need a cast that says nothing. Source and bench files keep the rule.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // Preloaded with `node -r` into a child process, which needs CommonJS.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // A child process started by the tail tests: plain Node ESM.
    files: ['**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        setTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        clearTimeout: 'readonly',
      },
    },
  },
);
