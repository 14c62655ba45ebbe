// Counts requests in redis. The redis service's host, port and password come
// from /home/dotcloud/environment.json, as on dotCloud: never from localhost.
var fs = require('fs');
var http = require('http');
var redis = require('redis');

var env = JSON.parse(fs.readFileSync(process.env.HOME + '/environment.json', 'utf8'));
// The client of the Node.js 0.8 days: createClient(port, host, options).
var client = redis.createClient(Number(env.DOTCLOUD_DB_REDIS_PORT), env.DOTCLOUD_DB_REDIS_HOST, {
  auth_pass: env.DOTCLOUD_DB_REDIS_PASSWORD
});
client.on('error', function (err) {
  console.error('redis: ' + err.message);
});

http.createServer(function (req, res) {
  var key = req.url.replace(/^\/+/, '') || 'hits';
  client.incr(key, function (err, count) {
    if (err) {
      res.writeHead(503, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ error: err.message }) + '\n');
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ key: key, count: count, instance: env.DOTCLOUD_SERVICE_ID }) + '\n');
  });
}).listen(8080);
