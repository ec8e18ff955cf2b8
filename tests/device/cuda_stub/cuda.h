#pragma once
// NOT CUDA: an empty stand-in for the cuda_graph_syntax test.
