// Gear2: a second HTTP Gear, built with Express (installed by npm during the
// push). It greets with the text from its env and counts the requests this
// process has served.
var express = require('express');
var greeting = require('./file1');
var counter = require('./file2');

var app = express();
var hits = counter.create();

app.get('*', function (req, res) {
  res.json({
    gear: 'Gear2',
    greeting: greeting.text(process.env),
    requests_served: hits.next(),
    dotcloud_service: process.env.DOTCLOUD_SERVICE_NAME || null
  });
});

app.listen(8080);
