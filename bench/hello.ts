// The smallest compiled Bun program: the baseline for the binary-size target.
console.log("hello");
