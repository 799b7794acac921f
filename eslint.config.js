// ESLint (typescript-eslint, React hooks rules), run by `npm test` through `npm run lint`.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test/cluster/**/*.go', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        AbortSignal: 'readonly',
        performance: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'warn',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-control-regex': 'off',
    },
  },
  {
    files: ['screens/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    // The core has no UI: src/ never imports screens/, ink or react; only src/cluster/ imports client-node.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['ink', 'react', 'ink-*', '**/screens/**'], message: 'src/ is the core: no UI imports (DESIGN.md layering).' }] },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cluster/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['ink', 'react', 'ink-*', '**/screens/**'], message: 'src/ is the core: no UI imports (DESIGN.md layering).' },
            { group: ['@kubernetes/client-node'], message: 'only src/cluster/ talks to the API server.' },
          ],
        },
      ],
    },
  },
  {
    files: ['screens/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@kubernetes/client-node'], message: 'screens/ reach the cluster through src/ only.' }] }],
    },
  },
);
