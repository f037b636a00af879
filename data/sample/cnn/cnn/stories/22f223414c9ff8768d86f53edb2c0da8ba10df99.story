Turin (Sample News) -- The new library in Turin opened on Monday after 5 months of work.

Mayor Hana said the library would serve the whole region

"We waited a long time for this," Hana told reporters.

About 50 people attended the opening ceremony.

@highlight

New library opens in Turin after 5 months

@highlight

Mayor Hana says it will serve the region
