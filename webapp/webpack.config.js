// Builds the webapp plugin into one self-contained file, webapp/dist/main.js. Mattermost renames and
// hashes only that file when it unpacks the plugin, so nothing may be split into other chunks.
// React, Redux and react-redux come from the host page (window.React, …): bundling our own copies
// would give the plugin a second React that cannot render into the host's tree.
const path = require('path');

const PLUGIN_ID = require('../plugin.json').id;

module.exports = (env, argv) => {
  const production = (argv && argv.mode) !== 'development';
  return {
    mode: production ? 'production' : 'development',
    context: __dirname,
    entry: './src/index.tsx',
    target: ['web', 'es2020'],
    devtool: production ? false : 'eval-cheap-module-source-map',
    resolve: {
      extensions: ['.tsx', '.ts', '.js', '.json'],
    },
    module: {
      rules: [
        {
          test: /\.tsx?$/,
          exclude: /node_modules/,
          use: {
            loader: 'swc-loader',
            options: {
              jsc: {
                target: 'es2020',
                parser: {syntax: 'typescript', tsx: true},
                // Classic runtime: JSX becomes React.createElement and no react/jsx-runtime is imported,
                // so the same bundle runs on the host's React 17 (Mattermost 10) and 18 (Mattermost 11).
                transform: {react: {runtime: 'classic', pragma: 'React.createElement', pragmaFrag: 'React.Fragment'}},
              },
            },
          },
        },
      ],
    },
    externals: {
      react: 'React',
      'react-dom': 'ReactDOM',
      redux: 'Redux',
      'react-redux': 'ReactRedux',
      'prop-types': 'PropTypes',
      'react-intl': 'ReactIntl',
    },
    output: {
      // The tests build into folders of their own (env.outputPath) so that parallel builds do not collide.
      path: (env && env.outputPath) || path.join(__dirname, 'dist'),
      filename: 'main.js',
      uniqueName: PLUGIN_ID,
      devtoolNamespace: PLUGIN_ID,
      clean: true,
    },
    optimization: {
      splitChunks: false,
      runtimeChunk: false,
    },
    performance: {hints: false},
  };
};
