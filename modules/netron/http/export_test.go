package http

// DecodeAnswer exposes decodeAnswer to the fuzz target.
var DecodeAnswer = decodeAnswer
