// Which settings did this process receive? nodeSocket passed the .torque's
// env keys as written (mongo-host); dotCloud passes them upper-cased with
// underscores (MONGO_HOST). Report both so a reader sees the difference.
function pick(env, names) {
  for (var i = 0; i < names.length; i++) {
    if (env[names[i]] !== undefined) {
      return { name: names[i], value: env[names[i]] };
    }
  }
  return null;
}

exports.read = function (argv, env) {
  return {
    parameters: argv,
    development: argv.indexOf('--development') !== -1,
    verbose: argv.indexOf('--verbose') !== -1,
    mongo_host: pick(env, ['MONGO_HOST', 'mongo-host']),
    mongo_port: pick(env, ['MONGO_PORT', 'mongo-port']),
    port_setting: pick(env, ['port', 'PORT']),
    dotcloud_service: env.DOTCLOUD_SERVICE_NAME || null
  };
};
