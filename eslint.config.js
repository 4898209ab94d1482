import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.osusume/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // test/ does not ship: the command (osusume bench included) must run without it.
    files: ['**/*.ts'],
    ignores: ['test/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+test/',
              message:
                'Code outside test/ ships and must not import test code: move what it needs out of test/ (e.g. to scripts/), and import it from there in both.',
            },
          ],
        },
      ],
    },
  },
);
