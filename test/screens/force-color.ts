// Imported first by every screen test: chalk decides its colour level when it is first loaded, and
// the tests assert that colours are there before they strip them.
process.env.FORCE_COLOR = '1';
