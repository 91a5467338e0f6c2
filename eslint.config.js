import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.paystep/', 'coverage/', 'test-output/', 'local/public/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // `import { z } from 'zod'` takes the `z` namespace object, which esbuild cannot tree-shake: it
    // bundles every locale (about 443 KiB against about 94 KiB for `import * as z`). lib/bundle-report.ts
    // measures it.
    files: ['lambdas/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "ImportDeclaration[source.value='zod'] > :matches(ImportSpecifier[imported.name='z'], ImportDefaultSpecifier)",
          message: "Use `import * as z from 'zod'`: the `z` namespace export pulls every zod locale into the Lambda bundle.",
        },
      ],
    },
  },
  prettier,
);
