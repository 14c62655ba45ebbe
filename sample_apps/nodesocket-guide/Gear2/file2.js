// A per-process request counter: each instance counts on its own.
exports.create = function () {
  var n = 0;
  return {
    next: function () {
      n += 1;
      return n;
    }
  };
};
