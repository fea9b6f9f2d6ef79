/*
 * sim_bound.h - the information bound of a step's PASS (canary-sim --bound).
 */
#ifndef SIM_BOUND_H
#define SIM_BOUND_H

/* The most powerful level-alpha test of Poisson(margin * mu) against
 * Poisson(mu): its power, the largest chance any PASS with that level can
 * have of passing an identical canary whose expected count is mu. */
double sim_bound_pass_power(double mu, double margin, double alpha);

/* The table of docs/analysis.md section 11 (canary-sim --bound). */
void sim_bound_print(void);

#endif
