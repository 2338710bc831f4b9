// Lets `node -r ./build/ts-register.js build/<script>.ts` run the build scripts, which are TypeScript
// like the rest of the project, without a compile step: each .ts file is stripped of its types by
// @swc/core (already a dev dependency) as it is required. No type checking here: `tsc -p build` does that.
const fs = require('fs');
const {transformSync} = require('@swc/core');

require.extensions['.ts'] = function compileTs(module, filename) {
  const {code} = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    sourceMaps: 'inline',
    jsc: {target: 'es2022', parser: {syntax: 'typescript'}},
    module: {type: 'commonjs'},
  });
  module._compile(code, filename);
};
