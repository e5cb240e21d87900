// CSR to CSC conversion on fastopt's threads, for the solvers that read X one
// column at a time.
#pragma once

#include <cstdint>

namespace fastopt::sparse {

// Writes the CSC form of the CSR matrix (data, indices, indptr) with n rows
// and p columns into out_data, out_indices (nnz each) and out_indptr (p + 1).
// The entries of each column come in row order, the order
// scipy.sparse.csr_matrix.tocsc gives, whatever the thread count. Returns
// false, having written nothing useful, when indptr is not a nondecreasing
// sequence from 0 or an index lies outside [0, p). sorted_rows is set when
// every row's indices strictly increase, which rules out duplicate entries.
template <typename T, typename I>
bool csr_to_csc(const T* data, const I* indices, const I* indptr, std::int64_t n,
                std::int64_t p, T* out_data, I* out_indices, I* out_indptr, int num_threads,
                bool& sorted_rows);

}  // namespace fastopt::sparse
