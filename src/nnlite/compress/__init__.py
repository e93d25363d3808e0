"""Deep Compression (Han, Mao & Dally, ICLR 2016): pruning, trained quantization, Huffman coding."""
