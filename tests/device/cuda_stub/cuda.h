#pragma once
// NOT CUDA: an empty stand-in for the cuda_code_syntax test.
