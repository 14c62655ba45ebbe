// Turn a report object into the response body: stable, readable JSON.
exports.render = function (report) {
  return JSON.stringify(report, null, 2) + '\n';
};
