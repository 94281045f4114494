package httptransport

// DecodeAnswer exposes decodeAnswer to the fuzz target.
var DecodeAnswer = decodeAnswer
