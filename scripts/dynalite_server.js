// Runs dynalite's own command line, but keeps the server up when a client drops a request halfway.
// dynalite 4.0.0 answers a request's 'error' event with `throw err` (index.js), so one client process that exits
// with a request in flight (ECONNRESET, "aborted") kills the server and every later test on it. AWS does not
// behave like that, so the tests' server should not either; any other uncaught error still stops it.
'use strict'
const path = require('path')

process.on('uncaughtException', (err) => {
  if (err && (err.code === 'ECONNRESET' || err.message === 'aborted')) {
    console.error(`dynalite: a client dropped a request (${err.message}); serving on`)
    return
  }
  console.error(err)
  process.exit(1)
})

require(path.join(process.argv[2], 'node_modules', 'dynalite', 'cli.js'))
