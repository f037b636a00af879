Perth (Sample News) -- The new library in Perth opened on Monday after 5 months of work.

Mayor Fatima said the library would serve the whole region

"We waited a long time for this," Fatima told reporters.

About 50 people attended the opening ceremony.

@highlight

New library opens in Perth after 5 months

@highlight

Mayor Fatima says it will serve the region
