// Prints one closing line for all test runs ("N passed, N failed"), from vitest's JSON reports,
// so CI records how many tests actually ran. Exits non-zero if a report is missing.
import { readFileSync } from 'node:fs'

let passed = 0
let failed = 0
let skipped = 0
for (const file of ['.test-results/unit.json', '.test-results/browser.json']) {
  let report
  try {
    report = JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    console.error(`missing test report ${file}: a test run did not finish`)
    process.exit(1)
  }
  passed += report.numPassedTests
  failed += report.numFailedTests
  skipped += report.numPendingTests + report.numTodoTests
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`)
