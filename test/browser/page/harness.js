/*
 * The harness page's script. It stands in for the parts of Mattermost's web app that a webapp
 * plugin touches, and nothing else:
 *
 * - the plugin loader (webapp/channels/src/plugins/index.ts): GET /api/v4/plugins/webapp, a
 *   <script id="plugin_<id>" defer> for each bundle_path (the /static/ prefix mapped to
 *   /static/plugins/, under the Site URL's path), window.registerPlugin, then
 *   plugin.initialize(registry, store) once the script has loaded;
 * - a registry that keeps what the plugin registers (custom admin settings, post types, reducers);
 * - a Redux store holding entities.general.config (the client config, SiteURL included) and
 *   entities.users (currentUserId and the profile from GET /api/v4/users/me, roles included), plus
 *   each registered reducer at state['plugins-<id>'];
 * - the System Console's rendering of a `type: custom` setting (?view=dashboard) and the post view's
 *   rendering of a plugin post type (?view=post&post_id=…).
 *
 * Everything is read from Mattermost through the page's origin with the browser's session cookie.
 * State for the tests is on window.__harness; nothing here talks to the bridge.
 */
/* global window, document, fetch, URL, URLSearchParams, MutationObserver, performance, requestAnimationFrame, setTimeout */
/* global React, ReactDOM, Redux, ReactRedux */
(function () {
  'use strict';

  var params = new URLSearchParams(window.location.search);
  var view = params.get('view') || 'none';
  var H = {
    view: view,
    state: 'starting',
    error: null,
    errors: [],
    bundles: [],
    registered: {settings: [], postTypes: [], reducers: []},
    changes: [],
    saveNeeded: 0,
    timings: {},
    me: null,
    siteUrl: null,
  };
  window.__harness = H;

  window.addEventListener('error', function (e) {
    H.errors.push('error: ' + (e.error && e.error.stack ? e.error.stack : e.message));
  });
  window.addEventListener('unhandledrejection', function (e) {
    var r = e.reason;
    H.errors.push('unhandled rejection: ' + (r && r.stack ? r.stack : String(r)));
  });

  var h = React.createElement;
  var banner = document.getElementById('harness-banner');
  var who = document.getElementById('harness-who');
  var mount = document.getElementById('harness-root');

  function fail(message) {
    H.state = 'error';
    H.error = message;
    banner.hidden = false;
    banner.textContent = message;
  }

  function getJson(path) {
    return fetch(path, {credentials: 'include', headers: {'X-Requested-With': 'XMLHttpRequest', Accept: 'application/json'}}).then(function (res) {
      return res.text().then(function (text) {
        var body;
        try {
          body = text === '' ? null : JSON.parse(text);
        } catch {
          body = null;
        }
        if (!res.ok) {
          var e = new Error('GET ' + path + ' answered ' + res.status + (body && body.message ? ': ' + body.message : ''));
          e.status = res.status;
          throw e;
        }
        return body;
      });
    });
  }

  function optionalJson(path) {
    return getJson(path).catch(function (err) {
      if (err.status === 403) return null;
      throw err;
    });
  }

  // ------------------------------------------------------------------------------------------
  // Store and registry

  var pluginReducers = {};
  var store = null;

  function rootReducer(entities) {
    var reducers = {
      entities: function (state) {
        return state === undefined ? entities : state;
      },
    };
    Object.keys(pluginReducers).forEach(function (k) {
      reducers[k] = pluginReducers[k];
    });
    return Redux.combineReducers(reducers);
  }

  var customSettings = {};
  var postTypes = {};

  function makeRegistry(pluginId, entities) {
    var next = 0;
    return {
      registerAdminConsoleCustomSetting: function (key, component, options) {
        // Also the object form Mattermost accepts: ({key, component, options}).
        if (typeof key === 'object' && key !== null) {
          options = key.options;
          component = key.component;
          key = key.key;
        }
        customSettings[String(key).toLowerCase()] = {pluginId: pluginId, key: key, component: component, options: options || {}};
        H.registered.settings.push({pluginId: pluginId, key: key, showTitle: Boolean(options && options.showTitle)});
      },
      registerPostTypeComponent: function (type, component) {
        var id = pluginId + '_posttype_' + ++next;
        postTypes[type] = {id: id, pluginId: pluginId, component: component};
        H.registered.postTypes.push({pluginId: pluginId, type: type, id: id});
        return id;
      },
      unregisterPostTypeComponent: function (id) {
        Object.keys(postTypes).forEach(function (t) {
          if (postTypes[t].id === id) delete postTypes[t];
        });
      },
      registerReducer: function (reducer) {
        var key = 'plugins-' + pluginId;
        pluginReducers[key] = reducer;
        store.replaceReducer(rootReducer(entities));
        H.registered.reducers.push(key);
      },
    };
  }

  // ------------------------------------------------------------------------------------------
  // Loader

  window.plugins = window.plugins || {};
  window.registerPlugin = function (id, plugin) {
    var old = window.plugins[id];
    if (old && typeof old.uninitialize === 'function') old.uninitialize();
    window.plugins[id] = plugin;
  };

  function bundleUrl(basePath, bundlePath) {
    return basePath + bundlePath.replace('/static/', '/static/plugins/');
  }

  function loadScript(id, src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement('script');
      script.id = 'plugin_' + id;
      script.defer = true;
      script.src = src;
      script.onload = function () {
        resolve();
      };
      script.onerror = function () {
        reject(new Error('the bundle of ' + id + ' did not load from ' + src));
      };
      document.head.appendChild(script);
    });
  }

  function basePathOf(siteUrl) {
    try {
      return new URL(siteUrl).pathname.replace(/\/+$/, '');
    } catch {
      return '';
    }
  }

  // ------------------------------------------------------------------------------------------
  // Rendering

  class ErrorBoundary extends React.Component {
    constructor(props) {
      super(props);
      this.state = {error: null};
    }
    static getDerivedStateFromError(error) {
      return {error: error};
    }
    componentDidCatch(error) {
      H.errors.push('render: ' + (error && error.stack ? error.stack : String(error)));
    }
    render() {
      if (this.state.error) return h('div', {className: 'hx-banner'}, 'The plugin component failed: ' + String(this.state.error));
      return this.props.children;
    }
  }

  function render(element) {
    var root = ReactDOM.createRoot(mount);
    H.root = root;
    root.render(h(ReactRedux.Provider, {store: store}, h(ErrorBoundary, null, element)));
  }

  function settingId(pluginId, key) {
    return 'PluginSettings.Plugins.' + pluginId.replace(/\./g, '+') + '.' + String(key).toLowerCase();
  }

  /** The plugin's settings page as the System Console builds it (custom_plugin_settings, schema_admin_settings). */
  function renderDashboard(pluginId, adminConfig, pluginsList) {
    var manifest = null;
    if (pluginsList) {
      manifest =
        (pluginsList.active || []).concat(pluginsList.inactive || []).filter(function (p) {
          return p.id === pluginId;
        })[0] || null;
    }
    var settings;
    if (manifest && manifest.settings_schema) {
      settings = (manifest.settings_schema.settings || []).filter(function (s) {
        return s.type === 'custom';
      });
    } else {
      // Not allowed to read the plugins list (no sysconsole permission): what the bundle registered.
      settings = H.registered.settings
        .filter(function (s) {
          return s.pluginId === pluginId;
        })
        .map(function (s) {
          return {key: s.key, display_name: s.key, help_text: ''};
        });
    }
    var config = adminConfig || {PluginSettings: {Plugins: {}}};
    var mine = ((config.PluginSettings || {}).Plugins || {})[pluginId] || {};
    var children = settings.map(function (s) {
      var registered = customSettings[String(s.key).toLowerCase()];
      if (!registered) {
        return h('div', {key: s.key, className: 'hx-banner'}, 'In order to view this setting, enable the plugin and click Save.');
      }
      var id = settingId(pluginId, s.key);
      var props = {
        id: id,
        label: s.display_name,
        helpText: h('span', null, s.help_text || ''),
        value: mine[String(s.key).toLowerCase()],
        disabled: false,
        config: config,
        license: {},
        setByEnv: false,
        onChange: function (changedId, value, confirm, doSubmit, warning) {
          H.changes.push({id: changedId, value: value, confirm: Boolean(confirm), doSubmit: Boolean(doSubmit), warning: Boolean(warning)});
        },
        setSaveNeeded: function () {
          H.saveNeeded++;
        },
        registerSaveAction: function () {},
        unRegisterSaveAction: function () {},
        cancelSubmit: function () {},
        showConfirm: false,
      };
      var content = h(registered.component, props);
      if (registered.options.showTitle) {
        content = h('div', {className: 'form-group'}, h('label', {className: 'control-label'}, s.display_name), content);
      }
      return h('div', {key: s.key, 'data-setting': id}, content);
    });
    render(h(React.Fragment, null, children));
  }

  function renderPost(post, author) {
    var type = post.props && typeof post.props.type === 'string' ? post.props.type : post.type;
    var registered = postTypes[type];
    if (!registered) {
      fail('no component is registered for post type ' + type);
      return false;
    }
    var name = author ? author.username : post.user_id;
    var time = new Date(post.create_at).toLocaleTimeString('en-US', {hour: 'numeric', minute: '2-digit'});
    render(
      h(
        'div',
        {className: 'hx-post', 'data-post-id': post.id},
        h('div', {className: 'hx-post__avatar', 'aria-hidden': 'true'}, name.slice(0, 1).toUpperCase()),
        h(
          'div',
          {className: 'hx-post__body'},
          h(
            'div',
            {className: 'hx-post__header'},
            h('span', {className: 'hx-post__name'}, name),
            author && author.is_bot ? h('span', {className: 'hx-post__bot'}, 'BOT') : null,
            h('span', {className: 'hx-post__time'}, time),
          ),
          h(registered.component, {post: post, compactDisplay: false, isRHS: false, theme: {}}),
        ),
      ),
    );
    return true;
  }

  // ------------------------------------------------------------------------------------------
  // Main

  function installRowTimer(expected) {
    // For the bench: when the findings table (not the integrations above it) has its rows in the DOM, and the
    // frame after that.
    // The table draws long lists in steps (150 rows): the first screen, then the rest.
    var firstStep = Math.min(expected, 150);
    var observer = new MutationObserver(function () {
      if (H.timings.rowsAt !== undefined) return;
      var rows = document.querySelectorAll('table.ea-table--findings > tbody > tr').length;
      if (rows >= firstStep && H.timings.firstRowsAt === undefined) {
        H.timings.firstRowsAt = performance.now();
        requestAnimationFrame(function () {
          setTimeout(function () {
            H.timings.firstFrameAt = performance.now();
          }, 0);
        });
      }
      if (rows < expected) return;
      H.timings.rowsAt = performance.now();
      H.timings.rows = rows;
      observer.disconnect();
      requestAnimationFrame(function () {
        setTimeout(function () {
          H.timings.frameAt = performance.now();
        }, 0);
      });
    });
    observer.observe(document.body, {childList: true, subtree: true});
  }

  async function main() {
    if (view === 'none') {
      who.textContent = 'Not rendering anything (view=none).';
      H.state = 'idle';
      return;
    }
    var me;
    try {
      me = await getJson('/api/v4/users/me');
    } catch (err) {
      fail('Not logged in to Mattermost: ' + err.message);
      return;
    }
    H.me = {id: me.id, username: me.username, roles: me.roles};
    var clientConfig = await getJson('/api/v4/config/client?format=old');
    H.siteUrl = clientConfig.SiteURL;
    who.textContent = 'Signed in to ' + clientConfig.SiteURL + ' as @' + me.username + ' (roles: ' + me.roles + ')';
    if (clientConfig.PluginsEnabled !== 'true') {
      fail('Plugins are disabled on this server (PluginsEnabled=' + clientConfig.PluginsEnabled + ').');
      return;
    }
    var entities = {
      general: {config: clientConfig, license: {}},
      users: {
        currentUserId: me.id,
        profiles: (function () {
          var p = {};
          p[me.id] = me;
          return p;
        })(),
      },
    };
    store = Redux.createStore(rootReducer(entities));
    H.getState = function () {
      return store.getState();
    };

    if (params.get('measure')) installRowTimer(Number(params.get('measure')));

    var basePath = basePathOf(clientConfig.SiteURL);
    var manifests = await getJson('/api/v4/plugins/webapp');
    for (var i = 0; i < manifests.length; i++) {
      var m = manifests[i];
      if (!m.webapp || !m.webapp.bundle_path) continue;
      var src = bundleUrl(basePath, m.webapp.bundle_path);
      H.bundles.push({id: m.id, version: m.version, bundlePath: m.webapp.bundle_path, src: src});
      await loadScript(m.id, src);
      var plugin = window.plugins[m.id];
      if (!plugin) {
        fail('The bundle of ' + m.id + ' loaded but did not call window.registerPlugin("' + m.id + '", …).');
        return;
      }
      await plugin.initialize(makeRegistry(m.id, entities), store);
    }
    H.timings.initializedAt = performance.now();

    if (view === 'dashboard') {
      var pluginId = params.get('plugin') || 'egress-advisor';
      if (
        !H.bundles.some(function (b) {
          return b.id === pluginId;
        })
      ) {
        fail('Mattermost offers no webapp bundle for ' + pluginId + ' (GET /api/v4/plugins/webapp).');
        return;
      }
      var adminConfig = await optionalJson('/api/v4/config');
      var pluginsList = await optionalJson('/api/v4/plugins');
      H.consoleData = {adminConfig: adminConfig !== null, pluginsList: pluginsList !== null};
      renderDashboard(pluginId, adminConfig, pluginsList);
    } else if (view === 'post') {
      var post = await getJson('/api/v4/posts/' + encodeURIComponent(params.get('post_id') || ''));
      var author = await getJson('/api/v4/users/' + encodeURIComponent(post.user_id)).catch(function () {
        return null;
      });
      // Mattermost's post view has the author's profile in the store (it loads the profiles of the posts it shows).
      if (author !== null) entities.users.profiles[author.id] = author;
      document.getElementById('harness-title').textContent = 'Post ' + post.id;
      if (!renderPost(post, author)) return;
    } else {
      fail('Unknown view ' + view);
      return;
    }
    H.state = 'rendered';
  }

  main().catch(function (err) {
    fail('Harness failed: ' + (err && err.stack ? err.stack : String(err)));
  });
})();
