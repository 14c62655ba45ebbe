// nodeSocket passed the key as written (greeting); dotCloud upper-cases it.
exports.text = function (env) {
  return env.GREETING || env.greeting || 'Hello';
};
